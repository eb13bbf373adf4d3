"""The Jet Admin messages protocol: request shapes in, answer shapes out."""
