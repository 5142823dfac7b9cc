"""`rag eval` and the training scripts' data: SQuAD/CoQA data sets and article splits, metrics, runs, reports."""
