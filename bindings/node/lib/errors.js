'use strict';
// One path from a C error code to a typed Error: makeError(). check() turns a
// failed return code into a throw, reading brain_errmsg() at once (it is
// thread-local in C and the next call into the library may replace it).

const { C, codes } = require('./native');

class BrainError extends Error {
  /**
   * @param {string} message
   * @param {number} errno  the C code (negative), e.g. -11
   */
  constructor(message, errno, options) {
    super(message, options);
    this.name = new.target.name;
    this.errno = errno;
    this.code = `BRAIN_${C.brain_error_name(errno)}`;
  }
}

class InvalidArgumentError extends BrainError {}
class TextError extends BrainError {}
class VectorError extends BrainError {}
class NotFoundError extends BrainError {}
class ExistsError extends BrainError {}
class CapacityError extends BrainError {}
class OutOfMemoryError extends BrainError {}
class EmbedderError extends BrainError {}
class StateError extends BrainError {}
class StorageError extends BrainError {}
class MetadataError extends BrainError {}
class InternalError extends BrainError {}

const FAMILIES = [
  [InvalidArgumentError, ['EINVAL', 'ENULL', 'ERANGE', 'EPARAM', 'EVERSION', 'EBUFSIZE']],
  [TextError, ['EEMPTY', 'EUTF8', 'ETOOLONG']],
  [VectorError, ['EDIM', 'ENONFINITE', 'EZEROVEC']],
  [NotFoundError, ['ENOTFOUND']],
  [ExistsError, ['EEXISTS']],
  [CapacityError, ['EFULL']],
  [OutOfMemoryError, ['ENOMEM']],
  [EmbedderError, ['ENOEMBEDDER', 'EEMBEDDER', 'EGENERATOR']],
  [StateError, ['ENOTSUP', 'ESTATE', 'EBUSY', 'EREADONLY']],
  [StorageError, ['EIO', 'ECORRUPT', 'ENOSPC', 'EMISMATCH']],
  [MetadataError, ['EJSON', 'EFILTER', 'ETYPE']],
  [InternalError, ['EINTERNAL']],
];

const CLASS_OF = new Map();
for (const [cls, names] of FAMILIES) {
  for (const name of names) {
    const errno = codes[`BRAIN_${name}`];
    if (errno === undefined) throw new Error(`braincore: the C library has no error ${name}`);
    CLASS_OF.set(errno, cls);
  }
}

/** The typed error for C code `errno`: by its name ('EUTF8') or its number. */
function makeError(errno, message, options) {
  if (typeof errno === 'string') errno = codes[`BRAIN_${errno}`];
  const cls = CLASS_OF.get(errno) || BrainError;
  return new cls(message || C.brain_strerror(errno), errno, options);
}

/** Throw the error of a failed call (rc < 0); return rc otherwise. */
function check(rc) {
  if (rc < 0) throw makeError(rc, C.brain_errmsg());
  return rc;
}

module.exports = {
  BrainError,
  InvalidArgumentError,
  TextError,
  VectorError,
  NotFoundError,
  ExistsError,
  CapacityError,
  OutOfMemoryError,
  EmbedderError,
  StateError,
  StorageError,
  MetadataError,
  InternalError,
  makeError,
  check,
};
