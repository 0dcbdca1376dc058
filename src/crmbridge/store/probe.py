"""Exit 0 when the database URL given as the only argument accepts a connection.

Used by ./dev to decide whether the PostgreSQL test pass can run here.
"""

from __future__ import annotations

import sys

import sqlalchemy as sa


def main(argv: list[str]) -> int:
    """Try one connection; print nothing on success, the reason on failure."""
    if len(argv) != 1:
        print("usage: python -m crmbridge.store.probe DATABASE_URL", file=sys.stderr)
        return 2
    engine = sa.create_engine(argv[0], connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as conn:
            conn.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        print(f"cannot connect: {exc.orig}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
