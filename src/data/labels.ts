/**
 * Fashion-MNIST's ten classes, in label order. The Korean names are the seed tutorial's own; the
 * English ones are those of the Fashion-MNIST README. Introduced in notebook 01, step 2.
 */
export const CLASS_NAMES_KO = [
  '티셔츠/상의', '바지', '스웨터', '드레스', '코트', '샌들', '셔츠', '운동화', '가방', '부츠',
] as const;

export const CLASS_NAMES_EN = [
  'T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot',
] as const;

export const NUM_CLASSES = 10;

/** "9 부츠 (Ankle boot)": the label with both of its names, as the notebooks print it. */
export function labelName(label: number): string {
  if (!Number.isInteger(label) || label < 0 || label >= NUM_CLASSES) {
    throw new RangeError(`label must be an integer 0..9, got ${label}`);
  }
  return `${label} ${CLASS_NAMES_KO[label]} (${CLASS_NAMES_EN[label]})`;
}
