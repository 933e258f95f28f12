"""clearml_lab: deploy the ClearML server on OpenShift, one checked step at a time."""

import sys

__version__ = "0.1.0"

# `import kubernetes` loads its dynamic client, which loads kubernetes_validate and with it jsonschema's optional
# format checkers. One of them, rfc3987_syntax (jsonschema's "iri" format, which nothing here validates), builds a
# grammar at import time: about 2 s on every CLI call and notebook kernel. jsonschema skips it when it cannot be
# imported, which a None entry in sys.modules makes so.
sys.modules.setdefault("rfc3987_syntax", None)
