// Package model holds SIS's model lifecycle: the model package format (a
// small multi-layer perceptron in model.bin, with manifest.json, model.sig
// and health.json), deterministic pure-Go inference, Ed25519 signing and
// verification, health checks, and the registry that loads, health-checks,
// swaps (RCU-style), rolls back and removes models, persisted under a
// directory such as /models of an afero.Fs.
//
// The format and the commands are described in docs/model.md.
package model
