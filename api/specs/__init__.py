"""Specs in and out: OpenSLO and Sloth files read into a neutral model, and the model
rendered as OpenSLO v1.

  yaml_source   YAML with places (file, document, field path, line)
  fields        reading a mapping's fields once each, strict or lenient
  openslo       OpenSLO v1 (strict), v1alpha and v2alpha (lenient, saying what they drop)
  sloth         Sloth prometheus/v1 files and the PrometheusServiceLevel CRD
  builder       collects objects, hoists inline ones, checks references
  reader        dispatches documents to the readers by version; files and directories
  (the neutral model and the checks live in domain/specs: the service layer uses them)
  openslo_export  the model as deterministic OpenSLO v1 YAML, with provenance annotations

A format adapter at the edge (DESIGN.md, "Beyond the island"): nothing here writes to the
log. The import (a SpecSet planned into commands) and the export (the log's state as a
SpecSet) are in domain/specs and service/specs.
"""
