"""The closed training loop: masks and thresholds from the simulated learning units.

``train_hardware(config, data)`` trains exactly like :func:`golden.train.train` with fixed-point
mask learning, except that every mask update runs through the simulated MaskLearning unit
(:class:`sim.learning.HardwareLearner`), whose mask and threshold the training then uses. Each
update is replayed by the golden fixed-point model; the result says how many disagreed (the
scores, the mask bits and the threshold are all compared).
"""

from ..golden.train import train

from .learning import HardwareLearner

__all__ = ["train_hardware"]


def train_hardware(config, data, progress=None):
    if config.numerics != "fixed":
        raise ValueError(f"the hardware learns in fixed point: numerics must be 'fixed', not "
                         f"{config.numerics!r}")
    if config.direction is None:
        return train(config, data, progress=progress)  # static variants learn nothing
    height, width = data[0].shape[-2:]
    learner = HardwareLearner(height=height, width=width, padding=config.padding,
                              block=config.block, threshold=config.threshold,
                              learning_rate=config.threshold_lr, direction=config.direction)
    result = train(config, data, learner=learner, progress=progress)
    result.hardware = {"updates": learner.updates, "mismatches": learner.mismatches}
    return result
