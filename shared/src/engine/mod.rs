//! The sync engine: canonical records, fingerprints, the pure three-way planner and the plan applier.
