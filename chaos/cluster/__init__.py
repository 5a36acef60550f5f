"""The stack's containers driven through the Docker SDK: create, wire, scale, fault, remove."""
