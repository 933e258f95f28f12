"""JupyterLab as `make lab` opens it (and the browser test, which starts it with this file too).

- the file browser's root is workspace/, the learner's copies of notebooks/ (`make lab` makes them; a run never
  changes notebooks/ itself), and the lab opens on notebook 00;
- each notebook's kernel shuts down when its tab closes (lab-settings/overrides.json: kernelShutdown), and kernels
  left idle are culled, so eleven notebooks do not keep eleven kernels.
"""

from pathlib import Path

HERE = Path(__file__).resolve().parent
c = get_config()  # noqa: F821 — provided by Jupyter when it loads this file

c.ServerApp.root_dir = str(HERE.parents[1] / "workspace")
# The URL `jupyter lab` prints and opens; it sets the server's default URL from its own, so both are set.
c.ServerApp.default_url = c.LabApp.default_url = "/lab/tree/00_welcome_and_prerequisites.ipynb"
c.LabApp.app_settings_dir = str(HERE / "lab-settings")  # overrides.json: the lab's default settings
c.MappingKernelManager.cull_idle_timeout = 20 * 60  # seconds without activity before an idle kernel is shut down
c.MappingKernelManager.cull_interval = 60
c.MappingKernelManager.cull_connected = False  # a notebook still open in a tab keeps its kernel
