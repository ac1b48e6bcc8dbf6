// Generated images leave the worker with their buffers transferred (moved, not copied) to the main
// thread. Only a view that spans its whole ArrayBuffer is transferred: transferring detaches the whole
// buffer, which could be shared with other views (Node's Buffer pool is); such a view is copied first.
import type { BatchImages } from '../../pipeline/types';

/** The images with buffers of their own, and those buffers; places without an image stay `undefined`. */
export function transferableImages(images: BatchImages): {
  images: BatchImages;
  transfer: ArrayBuffer[];
} {
  const transfer = new Set<ArrayBuffer>();
  const own = (view: Uint8Array): Uint8Array => {
    const { buffer } = view;
    if (!(buffer instanceof ArrayBuffer) || view.byteOffset !== 0 || view.byteLength !== buffer.byteLength) {
      // A copy into a buffer of its own (not `view.slice()`, which on a Buffer is another view).
      const copy = new Uint8Array(view);
      transfer.add(copy.buffer);
      return copy;
    }
    transfer.add(buffer);
    return view;
  };
  const owned = images.map((image) => (image === undefined ? undefined : { ...image, pixels: own(image.pixels) }));
  return { images: owned, transfer: [...transfer] };
}
