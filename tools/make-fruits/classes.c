/*
 * classes.c — the class list of Fruits-360 (100x100, 131 classes) and a
 * distinct synthetic look for each.
 */
#include "classes.h"

#include <math.h>

static const char *const fruit_names[FRUIT_CLASSES] = {
    "Apple Braeburn",
    "Apple Crimson Snow",
    "Apple Golden 1",
    "Apple Golden 2",
    "Apple Golden 3",
    "Apple Granny Smith",
    "Apple Pink Lady",
    "Apple Red 1",
    "Apple Red 2",
    "Apple Red 3",
    "Apple Red Delicious",
    "Apple Red Yellow 1",
    "Apple Red Yellow 2",
    "Apricot",
    "Avocado",
    "Avocado ripe",
    "Banana",
    "Banana Lady Finger",
    "Banana Red",
    "Beetroot",
    "Blueberry",
    "Cactus fruit",
    "Cantaloupe 1",
    "Cantaloupe 2",
    "Carambula",
    "Cauliflower",
    "Cherry 1",
    "Cherry 2",
    "Cherry Rainier",
    "Cherry Wax Black",
    "Cherry Wax Red",
    "Cherry Wax Yellow",
    "Chestnut",
    "Clementine",
    "Cocos",
    "Corn",
    "Corn Husk",
    "Cucumber Ripe",
    "Cucumber Ripe 2",
    "Dates",
    "Eggplant",
    "Fig",
    "Ginger Root",
    "Granadilla",
    "Grape Blue",
    "Grape Pink",
    "Grape White",
    "Grape White 2",
    "Grape White 3",
    "Grape White 4",
    "Grapefruit Pink",
    "Grapefruit White",
    "Guava",
    "Hazelnut",
    "Huckleberry",
    "Kaki",
    "Kiwi",
    "Kohlrabi",
    "Kumquats",
    "Lemon",
    "Lemon Meyer",
    "Limes",
    "Lychee",
    "Mandarine",
    "Mango",
    "Mango Red",
    "Mangostan",
    "Maracuja",
    "Melon Piel de Sapo",
    "Mulberry",
    "Nectarine",
    "Nectarine Flat",
    "Nut Forest",
    "Nut Pecan",
    "Onion Red",
    "Onion Red Peeled",
    "Onion White",
    "Orange",
    "Papaya",
    "Passion Fruit",
    "Peach",
    "Peach 2",
    "Peach Flat",
    "Pear",
    "Pear 2",
    "Pear Abate",
    "Pear Forelle",
    "Pear Kaiser",
    "Pear Monster",
    "Pear Red",
    "Pear Stone",
    "Pear Williams",
    "Pepino",
    "Pepper Green",
    "Pepper Orange",
    "Pepper Red",
    "Pepper Yellow",
    "Physalis",
    "Physalis with Husk",
    "Pineapple",
    "Pineapple Mini",
    "Pitahaya Red",
    "Plum",
    "Plum 2",
    "Plum 3",
    "Pomegranate",
    "Pomelo Sweetie",
    "Potato Red",
    "Potato Red Washed",
    "Potato Sweet",
    "Potato White",
    "Quince",
    "Rambutan",
    "Raspberry",
    "Redcurrant",
    "Salak",
    "Strawberry",
    "Strawberry Wedge",
    "Tamarillo",
    "Tangelo",
    "Tomato 1",
    "Tomato 2",
    "Tomato 3",
    "Tomato 4",
    "Tomato Cherry Red",
    "Tomato Heart",
    "Tomato Maroon",
    "Tomato Yellow",
    "Tomato not Ripened",
    "Walnut",
    "Watermelon",
};

const char *fruit_class_name(unsigned i)
{
    return fruit_names[i];
}

/* HSV (h in turns) to RGB 0..255. */
static void fruit_hsv(float h, float s, float v, float rgb[3])
{
    for (int c = 0; c < 3; c++) {
        float k = fmodf(5.0f - 2.0f * c + h * 6.0f, 6.0f);
        float t = fminf(fminf(k, 4.0f - k), 1.0f);
        rgb[c] = 255.0f * v * (1.0f - s * fmaxf(t, 0.0f));
    }
}

/* Neighbouring class indices get far-apart hues (golden-ratio steps), and
 * the other properties cycle with coprime periods, so no two of the 131
 * classes share colour, outline and texture together. */
fruit_look fruit_class_look(unsigned i)
{
    fruit_look l;
    float hue = fmodf(i * 0.618034f, 1.0f);
    fruit_hsv(hue, 0.55f + 0.4f * (i % 3) / 2.0f, 0.55f + 0.4f * (i % 4) / 3.0f, l.base);
    fruit_hsv(fmodf(hue + 0.25f + 0.5f * (i % 2), 1.0f), 0.8f, 0.35f + 0.3f * (i % 5) / 4.0f,
              l.second);
    l.rx = 26.0f + 3.0f * (float)(i % 7);
    l.ry = 40.0f - 3.0f * (float)(i % 6);
    l.boxy = (i / 3) % 2;
    l.texture = (int)(i % 3);
    l.freq = 0.08f + 0.05f * (float)(i % 4);
    return l;
}
