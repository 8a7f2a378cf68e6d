"""Binary encodings shared by the store and the wire protocol."""
