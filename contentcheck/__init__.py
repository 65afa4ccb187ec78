"""`make check`: the content checks for editors (YAML, flows, responses, examples, the
FAQ trace), each problem with its file and line."""
