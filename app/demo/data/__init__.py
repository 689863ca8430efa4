"""The demo's tables: the network (QPVs, structures, people and their stories), the directory
cards and network events, and the words the demo caseworkers write. Constants only: they
import nothing from the application."""
