"""Orders at risk: every open sale order line against what can cover it, scored with explainable factors."""
