package materials

import (
	"strconv"
	"testing"

	"github.com/custody-dev/custody/contract"
)

func TestCraftAsyncAPI(t *testing.T) {
	t.Parallel()
	api := func(version, title string, channels, operations int) map[string]string {
		return map[string]string{
			"format": "AsyncAPI", "asyncapiVersion": version, "title": title, "version": "1.0.0",
			"channelCount": strconv.Itoa(channels), "operationCount": strconv.Itoa(operations),
		}
	}
	runDocCases(t, contract.KindAsyncAPISpec, []docCase{
		{file: "asyncapi/spec-v3.1.0-streetlights-mqtt.yml", want: api("3.1.0", "Streetlights MQTT API", 4, 4)},
		{file: "asyncapi/spec-v3.1.0-rpc-server.yml", want: api("3.1.0", "RPC Server Example", 2, 2)},
		{file: "asyncapi/spec-v3.0.0-streetlights-kafka.yml", want: api("3.0.0", "Streetlights Kafka API", 4, 4)},
		{file: "asyncapi/spec-v3.0.0-streetlights-kafka.json", want: api("3.0.0", "Streetlights Kafka API", 4, 4)},
		// AsyncAPI 2: a channel's publish and subscribe are its operations.
		{file: "asyncapi/spec-v2.6.0-streetlights-mqtt.yml", want: api("2.6.0", "Streetlights MQTT API", 4, 4)},
		{file: "asyncapi/spec-v2.6.0-gitter-streaming.yml", want: api("2.6.0", "Gitter Streaming API", 1, 1)},
		// Its channel parameters are references, which the 2.0.0 schema only accepts resolved.
		{file: "asyncapi/spec-v2.0.0-streetlights.yml", want: api("2.0.0", "Streetlights API", 4, 4)},

		{file: "asyncapi/broken-version.yml", wantErr: []string{`asyncapi "1.2.0" is not supported (AsyncAPI 2.0.0, 2.1.0, 2.2.0, 2.3.0, 2.4.0, 2.5.0, 2.6.0, 3.0.0, 3.1.0)`}},
		{file: "asyncapi/broken-version-number.yml", wantErr: []string{`asyncapi is a number, want a version string such as "3.0.0"`}},
		{file: "asyncapi/broken-no-title.yml", wantErr: []string{"the AsyncAPI 3.1.0 document does not match the schema: at /info: missing property 'title'"}},
		{file: "asyncapi/broken-external-ref.yml", wantErr: []string{`$ref "https://example.com/messages.yaml#/lightMeasured" refers outside the document`}},
		{file: "asyncapi/broken-dangling-ref.yml", wantErr: []string{`read AsyncAPI document: $ref "#/components/messages/lightMeasurd" names nothing in the document`}},
		{file: "asyncapi/broken-truncated.yml", wantErr: []string{"the AsyncAPI 3.1.0 document does not match the schema"}},

		{file: "openapi/oai-v3.0-petstore.yaml", wantErr: []string{"no asyncapi field, not an AsyncAPI document"}, notThisKind: true},
		{file: "sarif/gosec.sarif", wantErr: []string{"no asyncapi field"}, notThisKind: true},
		{file: "junit/rspec.junit.xml", wantErr: []string{"no asyncapi field", "neither a JSON object nor a YAML mapping"}, notThisKind: true},
	})
}

// TestAsyncAPISchemasOffline checks every embedded AsyncAPI schema compiles from the embedded files.
func TestAsyncAPISchemasOffline(t *testing.T) {
	t.Parallel()
	for _, v := range asyncAPIVersions {
		if _, err := asyncAPISchemas[v].compiled(); err != nil {
			t.Errorf("AsyncAPI %s schema: %v", v, err)
		}
	}
	if _, err := swaggerSchema.compiled(); err != nil {
		t.Errorf("Swagger 2.0 schema: %v", err)
	}
}

func FuzzValidateAsyncAPI(f *testing.F) {
	fuzzSummary(f, validateAsyncAPI, func(t *testing.T, validated map[string]string) {
		channels, cerr := strconv.Atoi(validated["channelCount"])
		operations, oerr := strconv.Atoi(validated["operationCount"])
		if validated["format"] != "AsyncAPI" || asyncAPISchemas[validated["asyncapiVersion"]] == nil || cerr != nil || oerr != nil || channels < 0 || operations < 0 {
			t.Errorf("accepted a document as %v", validated)
		}
	}, "asyncapi", "other")
}
