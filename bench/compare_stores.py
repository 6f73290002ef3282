"""Two SQLite stores hold the same import: posts, documents, FTS tokens, region tags,
rumor scores and metric snapshots, matched by post id (rowids may differ).

    .venv/bin/python bench/compare_stores.py A.db B.db

Used to check that a faster import writes exactly what the previous code wrote
(``bench/bench_import.py`` keeps its store; import the same data with the old code into
another file). Prints one line per table and exits 1 on any difference.
"""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

#: (what, SQL giving one comparable row per item of database ``{db}``)
CHECKS: list[tuple[str, str]] = [
    (
        "posts (columns)",
        "SELECT id, source, kind, created_at, author_id, root_id, incident_id, rumor_score,"
        " fetched_at FROM {db}.posts",
    ),
    (
        "documents",
        "SELECT p.id, d.doc FROM {db}.posts p JOIN {db}.post_docs d ON d.rowid = p.rowid",
    ),
    (
        "FTS tokens",
        "SELECT p.id, f.c0 FROM {db}.posts p JOIN {db}.posts_fts_content f ON f.id = p.rowid",
    ),
    (
        "region tags",
        "SELECT p.id, r.region FROM {db}.posts p"
        " JOIN {db}.post_regions r ON r.post_rowid = p.rowid",
    ),
    (
        "snapshots",
        "SELECT post_id, observed_at, reposts, comments, likes FROM {db}.snapshots",
    ),
]


def compare(a: Path, b: Path) -> bool:
    con = sqlite3.connect(f"file:{a}?mode=ro", uri=True)
    con.execute("ATTACH DATABASE ? AS b", (f"file:{b}?mode=ro",))
    same = True
    for what, sql in CHECKS:
        left, right = sql.format(db="main"), sql.format(db="b")
        n_a = con.execute(f"SELECT count(*) FROM ({left})").fetchone()[0]
        n_b = con.execute(f"SELECT count(*) FROM ({right})").fetchone()[0]
        only_a = con.execute(f"SELECT count(*) FROM ({left} EXCEPT {right})").fetchone()[0]
        only_b = con.execute(f"SELECT count(*) FROM ({right} EXCEPT {left})").fetchone()[0]
        ok = n_a == n_b and only_a == only_b == 0
        same &= ok
        print(
            f"{what:<16}: {n_a:,} and {n_b:,} rows; {only_a:,} only in A, {only_b:,} only in B"
            f" -> {'identical' if ok else 'DIFFERENT'}"
        )
    scored = [
        con.execute(f"SELECT count(rumor_score) FROM {db}.posts").fetchone()[0]
        for db in ("main", "b")
    ]
    print(f"rumor scores    : {scored[0]:,} and {scored[1]:,} posts with a score")
    return same


def main() -> None:
    if len(sys.argv) != 3:
        raise SystemExit("usage: compare_stores.py A.db B.db")
    a, b = Path(sys.argv[1]), Path(sys.argv[2])
    for path in (a, b):
        if not path.is_file():
            raise SystemExit(f"{path}: no such store")
    sys.exit(0 if compare(a.resolve(), b.resolve()) else 1)


if __name__ == "__main__":
    main()
