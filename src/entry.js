// The runtime entry of the `fmnist` package (see package.json here): the compiled helpers.
module.exports = require('../dist/index.js');
