"""The sandbox worker, run as its own program inside bubblewrap (``python -I main.py``), never imported
by arcray: its modules import one another by their plain names and nothing from arcray, so neither
the worker nor the code it runs can reach arcray. This file only makes the folder ship with the
package. See ``main.py`` for the three processes, and ``docs/sandbox.md``.
"""
