"""Reference values used by validation, from shared/reference/intake.md."""

# Tolerable Upper Intake Level for magnesium from supplements and medicines,
# ages 9 and over, pregnancy and lactation included (Institute of Medicine,
# Dietary Reference Intakes, 1997; doi:10.17226/5776). Food is not counted.
SUPPLEMENT_UL_MG = 350
