"""Where the memory's rows live.

The database and its tables, migrations, set-based writes, edits, near-duplicates and files;
``backends/`` holds what differs between databases (one operations object per backend).
"""
