"""Where a profiled server spent its time: reads py-spy's collapsed stacks
(`bench/run.py --profile hub` writes them) and prints the heaviest functions.

    python bench/hotspots.py /tmp/hub-bench-XXXX/profile-hub.txt [--top 25]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

IDLE = re.compile(r"\b(select|epoll|poll|wait|_worker|sleep)\b")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("profile", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in args.profile.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        samples = int(count)
        frames = stack.split(";")
        if IDLE.search(frames[-1].split(" (")[0]):
            continue  # waiting, not working
        total += samples
        own[frames[-1]] += samples
        for frame in set(frames):
            inclusive[frame] += samples
    print(f"{total} busy samples")
    for title, counter in (("self", own), ("inclusive", inclusive)):
        print(f"\n-- {title} --")
        for frame, samples in counter.most_common(args.top):
            print(f"{100 * samples / max(1, total):5.1f}%  {frame}")


if __name__ == "__main__":
    main()
