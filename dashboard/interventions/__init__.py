"""The price-action interventions page of a market."""
