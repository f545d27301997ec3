//! Kinetics annotations and taxonomy.
