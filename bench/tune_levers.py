"""Grid over the weights of the cross-lingual levers, on the Q&A set's English questions.

Reproduces the lever table of docs/tuning.md:  .venv/bin/python bench/tune_levers.py
(Markdown on stdout, progress on stderr). Needs the index built with its gloss lexicon
(`rag index` with the LLM installed) and the English questions' translations cached
(any earlier `rag eval`); then the grid takes about 5 minutes on 2 cores. Korean
questions are measured for the sentence weight only: the other levers never touch them.
"""

from __future__ import annotations

import itertools
import logging
import sys
from pathlib import Path

from rag.config import Config
from rag.eval import load_qa
from rag.eval.relevance import Judge
from rag.eval.runner import evaluate_retrieval
from rag.retrieval import Retriever

SENTENCE = (0.0, 0.3, 0.5, 0.75)
LEXICON = (0.5, 1.0, 1.5)
TRANSLATION = (1.0, 1.5, 2.0)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    items = load_qa(Path("eval/qa.jsonl"))
    english = [i for i in items if i.lang == "en"]
    korean = [i for i in items if i.lang == "ko"]
    base = Retriever(Config.from_env(translate="on"))
    judge = Judge(base.index.chunks)
    print("| sentence weight | lexicon weight | translation weight | en R@1 | en R@5 | "
          "en MRR@10 | ko MRR@10 |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    korean_mrr: dict[float, float] = {}
    for sentence, lexicon, translation in itertools.product(SENTENCE, LEXICON, TRANSLATION):
        config = base.config.replace(sentence_weight=sentence, lexicon_weight=lexicon,
                                     translation_weight=translation)
        retriever = Retriever(config, index=base.index, embedder=base.embedder,
                              translator=base.translator)
        search = lambda q, r=retriever: r.search(q, k=10).hits  # noqa: E731
        en = evaluate_retrieval(english, judge, search, "en")["overall"]
        if sentence not in korean_mrr:
            korean_mrr[sentence] = evaluate_retrieval(korean, judge, search,
                                                      "ko")["overall"]["mrr@10"]
        print(f"| {sentence} | {lexicon} | {translation} | {en['recall@1']:.3f} | "
              f"{en['recall@5']:.3f} | {en['mrr@10']:.3f} | {korean_mrr[sentence]:.3f} |",
              flush=True)
        print(f"{sentence} {lexicon} {translation}: en MRR {en['mrr@10']:.3f}", file=sys.stderr)


if __name__ == "__main__":
    main()
