"""A statistic that needs a second pass over a file too big to hold (laplace's median): one
implementation, driven the same way whether the rows are read again in this process (from a
spill) or part by part on a cluster.

A family that mixes in `TwoPass` declares the pieces: the plan pass two follows from the first
pass's sketch, the size of what it would gather, a counting pass that narrows the plan, pass two
over some rows (parts merge), and the statistic from the merged part. `complete` runs them with a
`run_pass(read, plan)` that reads every row once with `read(plan, chunks)` and merges the parts.
"""

from __future__ import annotations

GATHERED = 1 << 22  # pass two gathers at most about this many values (32 MB) ...
NARROWINGS = 3  # ... after up to this many counting passes that narrow its plan
REQUIRED = ("second_pass_plan", "second_pass_size", "second_pass_part", "narrowing_part", "narrowed_plan",
            "finish_with")


class TwoPass:
    second_pass = True

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        missing = [m for m in REQUIRED if getattr(cls, m) is getattr(TwoPass, m)]
        if getattr(cls, "name", "") and missing:
            raise TypeError(f"family {cls.name}: a two-pass family must define {', '.join(missing)}")

    def second_pass_plan(self, sketch):
        """Where pass two looks (laplace: the bracket around the sample's median)."""
        raise NotImplementedError

    def second_pass_size(self, sketch, plan) -> float:
        """How many values pass two would gather under `plan`."""
        raise NotImplementedError

    def second_pass_part(self, plan, chunks):
        """Pass two over some rows (chunks of (values, weights)); parts merge in file order."""
        raise NotImplementedError

    def narrowing_part(self, plan, chunks):
        """A counting pass over some rows that narrows the plan; parts merge."""
        raise NotImplementedError

    def narrowed_plan(self, sketch, plan, counted):
        """(plan, size) from a counting pass's merged parts."""
        raise NotImplementedError

    def finish_with(self, sketch, plan, part):
        """The statistic from pass two's merged part."""
        raise NotImplementedError

    def complete(self, sketch, run_pass):
        plan = self.second_pass_plan(sketch)
        held = self.second_pass_size(sketch, plan)
        for _ in range(NARROWINGS):
            if held <= GATHERED:
                break
            counted = run_pass(self.narrowing_part, plan)
            before = held
            plan, held = self.narrowed_plan(sketch, plan, counted)
            if held >= before:
                break
        return self.finish_with(sketch, plan, run_pass(self.second_pass_part, plan))

    def finish(self, sketch, values_again):
        """The statistic from the merged sketches, reading the values again in this process."""
        return self.complete(sketch, lambda read, plan: read(plan, values_again()))
