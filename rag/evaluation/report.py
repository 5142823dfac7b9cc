"""`rag eval`'s report as text for the terminal."""

from __future__ import annotations

from typing import Any


def format_report(report: dict[str, Any]) -> str:
    lines = [f"{report['dataset']} ({report['questions']} questions, turns={report['turns']}, "
             f"rewrite={report['rewrite']}, articles={report['articles']}) against an index of "
             f"{report['articles_indexed']} articles from {report['index_of']}"]
    if report["left_out"]:
        lines.append(f"left out of the index (seed {report['seed']}): {len(report['left_out'])} articles, "
                     f"{report['answers']['unanswerable']} of their questions asked")
    if "retrieval" in report:
        lines.append(f"{'retrieval':<10}{'R@1':>8}{'R@5':>8}{'R@10':>8}{'MRR@10':>8}")
        for mode, m in report["retrieval"].items():
            lines.append(f"{mode:<10}{m['recall@1']:>8.3f}{m['recall@5']:>8.3f}{m['recall@10']:>8.3f}"
                         f"{m['mrr@10']:>8.3f}")
    a = report["answers"]
    lines.append("answers: " + ", ".join(f"{k}={v}" for k, v in a.items()))
    lines.append(f"false abstention (answerable, article indexed): {a['abstained_on_answerable']}; "
                 f"false answers (article not indexed): {a['answered_unanswerable']}")
    return "\n".join(lines)
