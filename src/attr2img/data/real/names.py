"""Attribute vocabularies of the real datasets, which the synthetic sets borrow their names from.

LFW: the 73 attributes of Kumar et al. (``lfw_attributes.txt``), in file order.
CUB-200-2011: the 28 attribute groups (``has_<part>_<property>::<value>``).
"""

LFW_ATTRIBUTES = (
    "Male", "Asian", "White", "Black", "Baby", "Child", "Youth", "Middle Aged", "Senior",
    "Black Hair", "Blond Hair", "Brown Hair", "Bald", "No Eyewear", "Eyeglasses", "Sunglasses",
    "Mustache", "Smiling", "Frowning", "Chubby", "Blurry", "Harsh Lighting", "Flash",
    "Soft Lighting", "Outdoor", "Curly Hair", "Wavy Hair", "Straight Hair", "Receding Hairline",
    "Bangs", "Sideburns", "Fully Visible Forehead", "Partially Visible Forehead",
    "Obstructed Forehead", "Bushy Eyebrows", "Arched Eyebrows", "Narrow Eyes", "Eyes Open",
    "Big Nose", "Pointy Nose", "Big Lips", "Mouth Closed", "Mouth Slightly Open",
    "Mouth Wide Open", "Teeth Not Visible", "No Beard", "Goatee", "Round Jaw", "Double Chin",
    "Wearing Hat", "Oval Face", "Square Face", "Round Face", "Color Photo", "Posed Photo",
    "Attractive Man", "Attractive Woman", "Indian", "Gray Hair", "Bags Under Eyes",
    "Heavy Makeup", "Rosy Cheeks", "Shiny Skin", "Pale Skin", "5 o' Clock Shadow",
    "Strong Nose-Mouth Lines", "Wearing Lipstick", "Flushed Face", "High Cheekbones",
    "Brown Eyes", "Wearing Earrings", "Wearing Necktie", "Wearing Necklace",
)

CUB_GROUPS = (
    "has_bill_shape", "has_wing_color", "has_upperparts_color", "has_underparts_color",
    "has_breast_pattern", "has_back_color", "has_tail_shape", "has_upper_tail_color",
    "has_head_pattern", "has_breast_color", "has_throat_color", "has_eye_color",
    "has_bill_length", "has_forehead_color", "has_under_tail_color", "has_nape_color",
    "has_belly_color", "has_wing_shape", "has_size", "has_shape", "has_back_pattern",
    "has_tail_pattern", "has_belly_pattern", "has_primary_color", "has_leg_color",
    "has_bill_color", "has_crown_color", "has_wing_pattern",
)
CUB_COLORS = ("blue", "brown", "iridescent", "purple", "rufous", "grey", "yellow", "olive",
              "green", "pink", "orange", "black", "white", "red", "buff")
