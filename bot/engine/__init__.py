"""Engine: shortlist, score and decide what answers a question."""
