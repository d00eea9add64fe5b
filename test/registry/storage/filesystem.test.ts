import { FilesystemBlobStore } from '../../../src/registry/storage/filesystem.js';
import { blobStoreSuite } from './blob-store-suite.js';

blobStoreSuite('FilesystemBlobStore', (scratch) => new FilesystemBlobStore(scratch).init());
