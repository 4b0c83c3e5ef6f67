'use strict';
// braincore for Node.js: Brain (text memory), Index (hnswlib-node's shape)
// and the typed errors, over the C library through koffi.

const native = require('./native');
const errors = require('./errors');
const { Brain } = require('./brain');
const { Index } = require('./hnsw');

module.exports = {
  Brain,
  Index,
  HierarchicalNSW: Index,
  BrainError: errors.BrainError,
  InvalidArgumentError: errors.InvalidArgumentError,
  TextError: errors.TextError,
  VectorError: errors.VectorError,
  NotFoundError: errors.NotFoundError,
  ExistsError: errors.ExistsError,
  CapacityError: errors.CapacityError,
  OutOfMemoryError: errors.OutOfMemoryError,
  EmbedderError: errors.EmbedderError,
  StateError: errors.StateError,
  StorageError: errors.StorageError,
  MetadataError: errors.MetadataError,
  InternalError: errors.InternalError,
  /** Error codes by name: { BRAIN_EINVAL: -1, ... } (from the library). */
  codes: Object.freeze({ ...native.codes }),
  /** Version of the C library in use, e.g. "0.1.0". */
  libraryVersion: native.C.brain_version_string(),
  /** Path or name the C library was loaded from. */
  libraryPath: native.path,
};
