// The public API of @tokenrl/train: filled in by the training-package work.
export {};
