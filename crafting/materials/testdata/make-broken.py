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
variant(CSAF, "csaf/broken-csaf-version.json", lambda d: d["document"].update(csaf_version="2.1"))
variant(CSAF, "csaf/broken-no-tracking-id.json", lambda d: d["document"]["tracking"].pop("id"))
variant(CSAF, "csaf/broken-undefined-product.json",
        lambda d: d["vulnerabilities"][2]["product_status"].update(under_investigation=["CUSTODY-9.9.9"]))
variant(CSAF, "csaf/broken-not-affected-no-impact.json", lambda d: d["vulnerabilities"][0].pop("flags"))
variant(CSAF, "csaf/broken-affected-no-remediation.json", lambda d: d["vulnerabilities"][1].pop("remediations"))
variant(CSAF, "csaf/broken-no-product-tree.json", lambda d: d.pop("product_tree"))
truncate(CSAF, "csaf/broken-truncated.json")

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
