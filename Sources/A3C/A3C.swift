// A3C: the algorithm and the trainer.
