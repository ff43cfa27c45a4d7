"""Run the fake platforms as a process until SIGTERM (used by the end-to-end test and the demo)."""

from __future__ import annotations

import argparse
import signal
import threading

from casetrail_tools.fake_platforms import FakePlatforms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=8190)
    parser.add_argument("--smtp-port", type=int, default=8125)
    args = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    with FakePlatforms(args.port, args.smtp_port) as fakes:
        print(f"fake platforms on {fakes.http_url} (SMTP {fakes.smtp_port})", flush=True)
        stop.wait()


if __name__ == "__main__":
    main()
