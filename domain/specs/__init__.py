"""Specs as slogov understands them, apart from any file format (pure: no I/O).

  model   the neutral model an OpenSLO or Sloth file is read into (api/specs reads and
          renders the YAML)
  check   what the spec tools do not check: ceilings, resolution, unknown sources

They sit in the domain, not beside the YAML readers in api/specs, because the service
layer turns a SpecSet into commands (an import) and the log's state into a SpecSet (an
export), and nothing below api may import api.
"""
