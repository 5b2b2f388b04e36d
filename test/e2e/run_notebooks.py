"""Execute notebooks headless with nbclient and record every IOPub message per cell.

Usage: python run_notebooks.py KERNEL_NAME OUT_DIR NOTEBOOK...

Each notebook runs top to bottom in a fresh kernel whose working directory is the notebook's
folder. For each notebook NAME.ipynb this writes OUT_DIR/NAME.ipynb (executed, with outputs as
nbclient applied them, display updates included) and OUT_DIR/NAME.messages.json: one record per
IOPub message (cell index, msg_type, the kernel's header date, display id, MIME types, the
tswren progress payload, stream text), plus
the run's wall time. Exits non-zero when a cell fails (nbclient's CellExecutionError), after
writing what ran.
"""
import json
import os
import sys
import time

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

PROGRESS = "application/vnd.tswren.progress+json"


class RecordingClient(NotebookClient):
    """An nbclient that keeps a record of every IOPub message it processes."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.records = []

    def process_message(self, msg, cell, cell_index):
        content = msg.get("content", {})
        date = msg.get("header", {}).get("date")
        data = content.get("data") or {}
        self.records.append({
            "cell": cell_index,
            "msg_type": msg.get("msg_type"),
            "date": date.isoformat() if hasattr(date, "isoformat") else date,
            "display_id": (content.get("transient") or {}).get("display_id"),
            "mimes": sorted(data.keys()),
            "progress": data.get(PROGRESS),
            "text": content.get("text") if msg.get("msg_type") == "stream" else None,
        })
        return super().process_message(msg, cell, cell_index)


def run(kernel_name, out_dir, notebook_path):
    name = os.path.splitext(os.path.basename(notebook_path))[0]
    nb = nbformat.read(notebook_path, as_version=4)
    client = RecordingClient(
        nb,
        kernel_name=kernel_name,
        timeout=300,
        startup_timeout=120,
        resources={"metadata": {"path": os.path.dirname(os.path.abspath(notebook_path))}},
    )
    started = time.monotonic()
    error = None
    try:
        client.execute()
    except CellExecutionError as err:
        error = str(err)
    seconds = time.monotonic() - started
    nbformat.write(nb, os.path.join(out_dir, name + ".ipynb"))
    with open(os.path.join(out_dir, name + ".messages.json"), "w") as f:
        json.dump({"seconds": seconds, "error": error, "messages": client.records}, f)
    print(f"{name}: {seconds:.1f} s{' FAILED' if error else ''}", flush=True)
    return error is None


def main():
    kernel_name, out_dir, notebooks = sys.argv[1], sys.argv[2], sys.argv[3:]
    ok = [run(kernel_name, out_dir, path) for path in notebooks]
    sys.exit(0 if all(ok) else 1)


if __name__ == "__main__":
    main()
