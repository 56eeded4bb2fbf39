package contract

// Kind is the type of a material.
type Kind string

// The material kinds custody knows.
const (
	KindString            Kind = "STRING"
	KindArtifact          Kind = "ARTIFACT"
	KindEvidence          Kind = "EVIDENCE"
	KindContainerImage    Kind = "CONTAINER_IMAGE"
	KindSBOMCycloneDXJSON Kind = "SBOM_CYCLONEDX_JSON"
	KindSBOMSPDXJSON      Kind = "SBOM_SPDX_JSON"
	KindJUnitXML          Kind = "JUNIT_XML"
	KindSARIF             Kind = "SARIF"
	KindOpenVEX           Kind = "OPENVEX"
	KindCSAFVEX           Kind = "CSAF_VEX"
	KindHelmChart         Kind = "HELM_CHART"
	KindAttestation       Kind = "ATTESTATION"

	KindJaCoCoXML      Kind = "JACOCO_XML"
	KindCoberturaXML   Kind = "COBERTURA_XML"
	KindSLSAProvenance Kind = "SLSA_PROVENANCE"
	KindZAPDASTZip     Kind = "ZAP_DAST_ZIP"
)

// Kinds lists every material kind, in the order of the documentation.
func Kinds() []Kind {
	return []Kind{
		KindString, KindArtifact, KindEvidence, KindContainerImage,
		KindSBOMCycloneDXJSON, KindSBOMSPDXJSON, KindJUnitXML, KindSARIF,
		KindOpenVEX, KindCSAFVEX, KindHelmChart, KindAttestation,
		KindJaCoCoXML, KindCoberturaXML, KindSLSAProvenance, KindZAPDASTZip,
	}
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, known := range Kinds() {
		if k == known {
			return true
		}
	}
	return false
}

// RunnerType is a CI system a contract can demand.
type RunnerType string

// The runner types a contract can demand.
const (
	RunnerGitHubAction   RunnerType = "GITHUB_ACTION"
	RunnerGitLabPipeline RunnerType = "GITLAB_PIPELINE"
	RunnerAzurePipeline  RunnerType = "AZURE_PIPELINE"
	RunnerJenkinsJob     RunnerType = "JENKINS_JOB"
	RunnerCircleCIBuild  RunnerType = "CIRCLECI_BUILD"
	RunnerTektonPipeline RunnerType = "TEKTON_PIPELINE"
	RunnerDaggerPipeline RunnerType = "DAGGER_PIPELINE"
	RunnerBuildkite      RunnerType = "BUILDKITE_PIPELINE"
	RunnerTeamCity       RunnerType = "TEAMCITY_PIPELINE"
)

// RunnerTypes lists every runner type a contract can demand.
func RunnerTypes() []RunnerType {
	return []RunnerType{
		RunnerGitHubAction, RunnerGitLabPipeline, RunnerAzurePipeline, RunnerJenkinsJob,
		RunnerCircleCIBuild, RunnerTektonPipeline, RunnerDaggerPipeline, RunnerBuildkite, RunnerTeamCity,
	}
}

// Valid reports whether t is a known runner type.
func (t RunnerType) Valid() bool {
	for _, known := range RunnerTypes() {
		if t == known {
			return true
		}
	}
	return false
}
