#!/usr/bin/env python3
"""Writes the hand-broken variants of the real fixtures (see README.md). Run from this directory.

Each variant is the real document with one thing broken, so a test can assert the reason named.
"""
import copy
import json


def load(path):
    with open(path) as f:
        return json.load(f)


def dump(path, doc):
    with open(path, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


def variant(src, dst, edit):
    doc = copy.deepcopy(load(src))
    edit(doc)
    dump(dst, doc)


def truncate(src, dst, fraction=0.5):
    with open(src, "rb") as f:
        data = f.read()
    with open(dst, "wb") as f:
        f.write(data[: int(len(data) * fraction)])


# CycloneDX
CDX = "cyclonedx/custody-mod.cdx.json"
variant(CDX, "cyclonedx/broken-spec-version.cdx.json", lambda d: d.update(specVersion="1.9"))
variant(CDX, "cyclonedx/broken-no-spec-version.cdx.json", lambda d: d.pop("specVersion"))
variant(CDX, "cyclonedx/broken-bom-format.cdx.json", lambda d: d.update(bomFormat="cyclonedx"))
variant(CDX, "cyclonedx/broken-component-no-name.cdx.json", lambda d: d["components"][2].pop("name"))
variant(CDX, "cyclonedx/broken-components-type.cdx.json", lambda d: d.update(components={"name": "x"}))
truncate(CDX, "cyclonedx/broken-truncated.cdx.json")

# SPDX
SPDX = "spdx/go-sarif-2.2.spdx.json"
variant(SPDX, "spdx/broken-no-spdxid.spdx.json", lambda d: d.pop("SPDXID"))
variant(SPDX, "spdx/broken-no-spdx-version.spdx.json", lambda d: d.pop("spdxVersion"))
variant(SPDX, "spdx/broken-spdx-version.spdx.json", lambda d: d.update(spdxVersion="SPDX-2.1"))
variant(SPDX, "spdx/broken-no-creation-info.spdx.json", lambda d: d.pop("creationInfo"))
variant(SPDX, "spdx/broken-no-namespace.spdx.json", lambda d: d.pop("documentNamespace"))
variant(SPDX, "spdx/broken-dangling-relationship.spdx.json",
        lambda d: d["relationships"].append({"spdxElementId": "SPDXRef-DOCUMENT",
                                             "relationshipType": "DESCRIBES",
                                             "relatedSpdxElement": "SPDXRef-Package-missing"}))
variant(SPDX, "spdx/broken-package-spdxid-prefix.spdx.json",
        lambda d: d["packages"][0].update(SPDXID="Package-no-prefix"))
truncate(SPDX, "spdx/broken-truncated.spdx.json")

# SARIF
SARIF = "sarif/gosec.sarif"
variant(SARIF, "sarif/broken-version.sarif", lambda d: d.update(version="2.0.0"))
variant(SARIF, "sarif/broken-no-driver-name.sarif", lambda d: d["runs"][0]["tool"]["driver"].pop("name"))
variant(SARIF, "sarif/broken-result-no-message.sarif", lambda d: d["runs"][0]["results"][3].pop("message"))
truncate(SARIF, "sarif/broken-truncated.sarif")

# OpenVEX
VEX = "openvex/custody.openvex.json"
variant(VEX, "openvex/broken-status.openvex.json", lambda d: d["statements"][1].update(status="maybe"))
variant(VEX, "openvex/broken-no-justification.openvex.json", lambda d: d["statements"][0].pop("justification"))
variant(VEX, "openvex/broken-no-author.openvex.json", lambda d: d.pop("author"))
variant(VEX, "openvex/broken-no-statements.openvex.json", lambda d: d.update(statements=[]))
variant(VEX, "openvex/broken-context-v0.0.1.openvex.json", lambda d: d.update({"@context": "https://openvex.dev/ns"}))
truncate(VEX, "openvex/broken-truncated.openvex.json")

# CSAF VEX
CSAF = "csaf/custody-vex-2026-0001.json"
variant(CSAF, "csaf/broken-category.json", lambda d: d["document"].update(category="csaf_security_advisory"))
variant(CSAF, "csaf/broken-csaf-version.json", lambda d: d["document"].update(csaf_version="2.2"))
variant(CSAF, "csaf/broken-publisher-category.json", lambda d: d["document"]["publisher"].update(category="robot"))
variant(CSAF, "csaf/broken-no-tracking-id.json", lambda d: d["document"]["tracking"].pop("id"))
variant(CSAF, "csaf/broken-undefined-product.json",
        lambda d: d["vulnerabilities"][2]["product_status"].update(under_investigation=["CUSTODY-9.9.9"]))
variant(CSAF, "csaf/broken-not-affected-no-impact.json", lambda d: d["vulnerabilities"][0].pop("flags"))
variant(CSAF, "csaf/broken-affected-no-remediation.json", lambda d: d["vulnerabilities"][1].pop("remediations"))
variant(CSAF, "csaf/broken-no-product-tree.json", lambda d: d.pop("product_tree"))
truncate(CSAF, "csaf/broken-truncated.json")

# CSAF of the other profiles
CSAF_IR = "csaf/custody-incident-2026-0001.json"
variant(CSAF_IR, "csaf/broken-ir-no-external-reference.json",
        lambda d: d["document"].update(references=d["document"]["references"][:1]))
variant(CSAF_IR, "csaf/broken-ir-undefined-product.json",
        lambda d: d["vulnerabilities"][0]["product_status"]["fixed"].append("CUSTODY-RUNNER-9999"))
CSAF_IA = "csaf/oasis-2.0-rhsa-2019_1862.json"
variant(CSAF_IA, "csaf/broken-ia-no-external-reference.json",
        lambda d: d["document"].update(references=[r for r in d["document"]["references"] if r.get("category") == "self"]))
variant(CSAF_IA, "csaf/broken-ia-vulnerabilities.json",
        lambda d: d.update(vulnerabilities=[{"title": "A vulnerability item that SHALL NOT exist"}]))
CSAF_SA = "csaf/oasis-2.0-bsi-2022-0001.json"
variant(CSAF_SA, "csaf/broken-sa-no-notes.json", lambda d: d["vulnerabilities"][0].pop("notes"))
variant(CSAF_SA, "csaf/broken-sa-no-product-status.json", lambda d: d["vulnerabilities"][0].pop("product_status"))
variant(CSAF_SA, "csaf/broken-sa-undefined-product.json",
        lambda d: d["vulnerabilities"][0]["product_status"]["known_affected"].append("CSAFPID-9999"))

# JUnit (XML, edited as text)
with open("junit/calc-fail.junit.xml") as f:
    junit = f.read()
truncate("junit/calc-fail.junit.xml", "junit/broken-truncated.junit.xml")
with open("junit/broken-mismatched-tag.junit.xml", "w") as f:
    f.write(junit.replace("</testcase>\n\t\t<testcase name=\"TestAddTable/zero\"", "</testsuite>\n\t\t<testcase name=\"TestAddTable/zero\"", 1))

# Edge cases the formats allow (accepted): SARIF 2.1.0 3.13.4, "runs" [] (no run was performed) and null
# (a failure before any run); a JUnit report of no test suite (JUnit.xsd: testsuite minOccurs="0").
variant(SARIF, "sarif/empty-runs.sarif", lambda d: d.update(runs=[]))
variant(SARIF, "sarif/null-runs.sarif", lambda d: d.update(runs=None))
with open("junit/empty-testsuites.junit.xml", "w") as f:
    f.write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites/>\n')

# OpenAPI (YAML edited as text)
def text_variant(src, dst, old, new):
    with open(src) as f:
        text = f.read()
    assert old in text, (src, old)
    with open(dst, "w") as f:
        f.write(text.replace(old, new, 1))


OAS3 = "openapi/oai-v3.0-petstore.yaml"
text_variant(OAS3, "openapi/broken-external-ref.yaml",
             '$ref: "#/components/schemas/Pets"', '$ref: "https://example.com/pets.yaml#/Pets"')
text_variant(OAS3, "openapi/broken-path-parameter.yaml", "        - name: petId\n          in: path",
             "        - name: id\n          in: path")
text_variant(OAS3, "openapi/broken-unknown-field.yaml", "paths:\n", "servlets: []\npaths:\n")
text_variant(OAS3, "openapi/broken-version.yaml", "openapi: \"3.0.0\"", "openapi: \"3.2.0\"")
truncate(OAS3, "openapi/broken-truncated.yaml")
SWAGGER = "openapi/oai-v2.0-petstore.json"
variant(SWAGGER, "openapi/broken-swagger-scheme.json", lambda d: d.update(schemes=["gopher"]))
variant(SWAGGER, "openapi/broken-swagger-external-ref.json",
        lambda d: d["paths"]["/pets"]["get"]["responses"]["200"]["schema"].update({"$ref": "definitions.json#/Pets"}))
text_variant("openapi/oai-v2.0-uber.yaml", "openapi/broken-swagger-number.yaml", 'swagger: "2.0"', "swagger: 2.0")

# AsyncAPI (YAML edited as text)
ASYNC3 = "asyncapi/spec-v3.1.0-streetlights-mqtt.yml"
text_variant(ASYNC3, "asyncapi/broken-version.yml", "asyncapi: 3.1.0", "asyncapi: 1.2.0")
text_variant(ASYNC3, "asyncapi/broken-no-title.yml", "  title: Streetlights MQTT API\n", "")
text_variant(ASYNC3, "asyncapi/broken-external-ref.yml", "$ref: '#/components/messages/lightMeasured'",
             "$ref: 'https://example.com/messages.yaml#/lightMeasured'")
text_variant(ASYNC3, "asyncapi/broken-version-number.yml", "asyncapi: 3.1.0", "asyncapi: 3")
truncate(ASYNC3, "asyncapi/broken-truncated.yml")
ASYNC2 = "asyncapi/spec-v2.6.0-streetlights-mqtt.yml"
text_variant(ASYNC2, "asyncapi/broken-dangling-ref.yml", "$ref: '#/components/messages/lightMeasured'",
             "$ref: '#/components/messages/lightMeasurd'")
