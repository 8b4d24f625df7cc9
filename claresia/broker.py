"""Where kombu's filesystem transport keeps its message files: `make run`'s broker, which needs
nothing installed (scripts/demo.sh starts a worker beside the web server). Plain paths only, so
that settings can import it."""

from pathlib import Path


def filesystem_transport_options(folder: Path, *, polling_interval: float = 0.2) -> dict:
    """One queue folder that the web process writes and the worker reads, on one machine."""
    return {
        "data_folder_in": str(folder / "queue"),
        "data_folder_out": str(folder / "queue"),
        "control_folder": str(folder / "control"),
        "processed_folder": str(folder / "processed"),
        "store_processed": False,
        # kombu polls the folder; its default (1 s) would be most of a short task's wait.
        "polling_interval": polling_interval,
    }


def filesystem_folders_create(folder: Path) -> None:
    for name in ("queue", "control", "processed"):
        (folder / name).mkdir(parents=True, exist_ok=True)
