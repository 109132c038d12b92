"""Specs in and out: OpenSLO and Sloth files read into a neutral model, and the model
rendered as OpenSLO v1.

  yaml_source   YAML with places (file, document, field path, line)
  fields        reading a mapping's fields once each, strict or lenient
  openslo       OpenSLO v1 (strict), v1alpha and v2alpha (lenient, saying what they drop)
  sloth         Sloth prometheus/v1 files and the PrometheusServiceLevel CRD
  builder       collects objects, hoists inline ones, checks references
  reader        dispatches documents to the readers by version; files and directories
  model         the neutral model, and how it maps to slogov's domain
  openslo_export  the model as deterministic OpenSLO v1 YAML, with provenance annotations
  check         what the spec tools do not check: ceilings, resolution, unknown sources

A format adapter at the edge (DESIGN.md, "Beyond the island"): nothing here writes to the
log. An import turns a SpecSet into commands; an export renders the read state at a log
position. Neither is wired to the CLI or GraphQL yet.
"""
