"""Price-action interventions: the detectors, the proposal's size and cost, the slice plan."""
