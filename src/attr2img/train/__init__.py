"""Training: batched augmentation on the device, the loop with checkpoints and resume."""
