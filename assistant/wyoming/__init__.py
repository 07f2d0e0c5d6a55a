"""Wyoming: the assistant's speech, voices and shopping conversation as services, and the hub for Pi satellites."""
