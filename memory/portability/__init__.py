"""Export and import of a user's memory in the documented ``confidante.memory`` JSON format."""
