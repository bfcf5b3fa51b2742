"""JUnit XML for CI dashboards: one test case per asset; blocked → failure, undecided → error."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from provenance.gate.result import GateResult, Status


def junit_xml(result: GateResult) -> bytes:
    c = result.counts
    suites = ET.Element("testsuites", name="provenance gate")
    errors = c.get("undecided", 0) + bool(result.fatal)
    suite = ET.SubElement(suites, "testsuite", name="provenance.gate", tests=str(len(result.assets)),
                          failures=str(c.get("blocked", 0)), errors=str(errors),
                          skipped="0", timestamp=result.decided_at)
    props = ET.SubElement(suite, "properties")
    for name, value in (("inputs_digest", result.inputs_digest), ("policy_digest", result.policy_digest),
                        ("summary", result.summary())):
        ET.SubElement(props, "property", name=name, value=value)
    if result.fatal:
        case = ET.SubElement(suite, "testcase", classname="provenance.gate", name="gate")
        ET.SubElement(case, "error", message=result.fatal, type="undecided").text = result.fatal
    for a in result.assets:
        name = a.name + (f" [{len(a.frames)} frames]" if a.is_sequence else "")
        case = ET.SubElement(suite, "testcase", classname=f"provenance.gate.{a.classification}", name=name)
        reasons = "\n".join(a.reasons())
        if a.status is Status.BLOCKED:
            first = a.reasons()[0] if a.reasons() else "blocked"
            ET.SubElement(case, "failure", message=first, type="blocked").text = reasons
        elif a.status is Status.UNDECIDED:
            first = a.reasons()[0] if a.reasons() else "could not decide"
            ET.SubElement(case, "error", message=first, type="undecided").text = reasons
        else:
            out = [f"status: {a.status}", *a.warnings()]
            out += [f"approved by {x['approver']} ({', '.join(x['scopes'])}, ref {x['reference']})"
                    for x in a.approvals()]
            ET.SubElement(case, "system-out").text = "\n".join(out)
    ET.indent(suites)
    return ET.tostring(suites, encoding="utf-8", xml_declaration=True)
