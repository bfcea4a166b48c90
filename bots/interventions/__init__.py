"""Price-action interventions: detection on live markets, the proposal workflow, the slices."""
