"""Ingestion of files into the store: cases (12345 exports), cameras and GPS tracks."""
