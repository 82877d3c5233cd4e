"""customer_outcomes: goal attainment, success gaps and renewal marts."""
