/*
 * classes.h — the Fruits-360 class names and each class's look.
 */
#ifndef FLOWRUN_MAKE_FRUITS_CLASSES_H
#define FLOWRUN_MAKE_FRUITS_CLASSES_H

#include <stdint.h>

#define FRUIT_CLASSES 131 /* the 100x100 Fruits-360 release */

/* What makes a class recognisable: colours, outline, texture.  Fixed per
 * class (independent of --seed), so every data set shows the same species. */
typedef struct fruit_look {
    float base[3], second[3]; /* RGB 0..255: body and texture colour */
    float rx, ry;             /* half axes in pixels */
    int boxy;                 /* 0: ellipse, 1: rounded box outline */
    int texture;              /* 0 smooth, 1 stripes, 2 checks */
    float freq;               /* texture cycles per pixel */
} fruit_look;

/* The class name (borrowed, static), e.g. "Apple Braeburn"; i < FRUIT_CLASSES. */
const char *fruit_class_name(unsigned i);
/* The look of class i < FRUIT_CLASSES. */
fruit_look fruit_class_look(unsigned i);

#endif
