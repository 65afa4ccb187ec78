"""`make check` (`python -m contentcheck`): every content problem, with file and line."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from contentcheck.check import run


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m contentcheck", description="内容チェック（編集者向け）")
    parser.add_argument("--root", type=Path, help="チェックするプロジェクトのフォルダ（既定: このプロジェクト）")
    parser.add_argument("--no-rasa", action="store_true", help="rasa data validate を省く（数秒速くなる）")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    problems = run(args.root, rasa=not args.no_rasa)
    if problems:
        print(f"内容チェック: {len(problems)} 件の問題があります。上から順に直してください（ファイル名:行番号: 内容）。")
        for problem in problems:
            print(f"  {problem}")
        print("直したら、もう一度 make check を実行してください。")
        return 1
    print("内容チェック: 問題はありません。")
    return 0


if __name__ == "__main__":
    sys.exit(main())
