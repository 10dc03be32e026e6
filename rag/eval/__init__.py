"""Evaluation: test sets in the field's formats, TREC metrics, answers, comparison, reports."""

from .compare import compare_runs, load_run
from .dataset import EvalSet, QAItem, Span, detect_format, load_eval_set, load_qa
from .metrics import latency_summary
from .runner import EVAL_MODES, run_evaluation

__all__ = ["EVAL_MODES", "EvalSet", "QAItem", "Span", "compare_runs", "detect_format",
           "latency_summary", "load_eval_set", "load_qa", "load_run", "run_evaluation"]
