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

	// Security scanners' reports.
	KindGitLabSecurityReport Kind = "GITLAB_SECURITY_REPORT"
	KindGHASCodeScan         Kind = "GHAS_CODE_SCAN"
	KindGHASSecretScan       Kind = "GHAS_SECRET_SCAN"
	KindGHASDependencyScan   Kind = "GHAS_DEPENDENCY_SCAN"
	KindGitleaksJSON         Kind = "GITLEAKS_JSON"
	KindTrufflehogJSON       Kind = "TRUFFLEHOG_JSON"
	KindOSSFScorecardJSON    Kind = "OSSF_SCORECARD_JSON"
	KindBlackDuckSCAJSON     Kind = "BLACKDUCK_SCA_JSON"
	KindTwistcliScanJSON     Kind = "TWISTCLI_SCAN_JSON"
	KindCheckmarxJSON        Kind = "CHECKMARX_JSON"
)

// The CSAF profiles beside VEX (CSAF 2.0 section 4): the document's category says which.
const (
	KindCSAFInformationalAdvisory    Kind = "CSAF_INFORMATIONAL_ADVISORY"
	KindCSAFSecurityAdvisory         Kind = "CSAF_SECURITY_ADVISORY"
	KindCSAFSecurityIncidentResponse Kind = "CSAF_SECURITY_INCIDENT_RESPONSE"
)

// API descriptions.
const (
	KindOpenAPISpec  Kind = "OPENAPI_SPEC"
	KindAsyncAPISpec Kind = "ASYNCAPI_SPEC"
)

// Kinds lists every material kind, in the order of the documentation.
func Kinds() []Kind {
	return []Kind{
		KindString, KindArtifact, KindEvidence, KindContainerImage,
		KindSBOMCycloneDXJSON, KindSBOMSPDXJSON, KindJUnitXML, KindSARIF,
		KindOpenVEX, KindCSAFVEX, KindHelmChart, KindAttestation,
		KindJaCoCoXML, KindCoberturaXML, KindSLSAProvenance, KindZAPDASTZip,
		KindGitLabSecurityReport, KindGHASCodeScan, KindGHASSecretScan, KindGHASDependencyScan,
		KindGitleaksJSON, KindTrufflehogJSON, KindOSSFScorecardJSON, KindBlackDuckSCAJSON,
		KindTwistcliScanJSON, KindCheckmarxJSON,
		KindCSAFInformationalAdvisory, KindCSAFSecurityAdvisory, KindCSAFSecurityIncidentResponse,
		KindOpenAPISpec, KindAsyncAPISpec,
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
